import { Test, type TestingModule } from '@nestjs/testing';
import { BallastModule, type BallastModuleOptions } from '../../lib/index.js';

/** Boots a Nest application context holding only BallastModule, as an app would import it. */
export async function bootBallast(options: BallastModuleOptions): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({ imports: [BallastModule.forRoot(options)] }).compile();
  await moduleRef.init();
  return moduleRef;
}

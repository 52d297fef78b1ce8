import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { BallastModuleOptions } from './ballast-options.interface.js';

/**
 * `forRoot` / `forRootAsync` come from Nest's builder; `isGlobal` (default `true`) makes the
 * services injectable everywhere without re-importing the module.
 */
export const {
  ConfigurableModuleClass: BallastConfigurableModule,
  MODULE_OPTIONS_TOKEN: BALLAST_MODULE_OPTIONS,
  OPTIONS_TYPE: BALLAST_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: BALLAST_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<BallastModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

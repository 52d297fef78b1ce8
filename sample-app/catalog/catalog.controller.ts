import { Controller, Delete, Get, Param } from '@nestjs/common';
import { CatalogService } from './catalog.service.js';
import type { Product } from './product-lookup.service.js';

@Controller('products')
export class CatalogController {
  constructor(private readonly catalog: CatalogService) {}

  /** First call per id takes ~300 ms (the upstream); repeats within 30 s come from the cache. */
  @Get(':id')
  product(@Param('id') id: string): Promise<Product> {
    return this.catalog.product(id);
  }

  @Delete(':id/cache')
  async forget(@Param('id') id: string): Promise<{ deleted: boolean }> {
    return { deleted: await this.catalog.forget(id) };
  }
}

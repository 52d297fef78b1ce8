import { Module } from '@nestjs/common';
import { CatalogController } from './catalog.controller.js';
import { CatalogService } from './catalog.service.js';
import { ProductLookupService } from './product-lookup.service.js';

@Module({
  controllers: [CatalogController],
  providers: [CatalogService, ProductLookupService],
})
export class CatalogModule {}

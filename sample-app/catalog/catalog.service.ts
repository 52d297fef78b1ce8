import { Injectable } from '@nestjs/common';
import { CacheService, seconds } from '../../lib/index.js';
import { ProductLookupService, type Product } from './product-lookup.service.js';

/** Product reads through the cache: the slow lookup runs once per id per 30 s, however many requests ask. */
@Injectable()
export class CatalogService {
  constructor(
    private readonly cache: CacheService,
    private readonly lookup: ProductLookupService,
  ) {}

  product(id: string): Promise<Product> {
    return this.cache.getOrSet(`product:${id}`, () => this.lookup.find(id), { ttl: seconds(30) });
  }

  forget(id: string): Promise<boolean> {
    return this.cache.del(`product:${id}`);
  }
}

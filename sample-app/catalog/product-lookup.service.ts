import { Injectable } from '@nestjs/common';

export interface Product {
  id: string;
  name: string;
  priceCents: number;
  fetchedAt: string;
}

/** Stands in for a slow upstream (another service, a heavy query): every call takes `delayMs`. */
@Injectable()
export class ProductLookupService {
  readonly delayMs = 300;
  calls = 0;

  async find(id: string): Promise<Product> {
    this.calls++;
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return { id, name: `Product ${id}`, priceCents: 1000 + id.length * 99, fetchedAt: new Date().toISOString() };
  }
}

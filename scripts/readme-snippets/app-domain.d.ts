// The app's own code that README snippets use but do not show: classes and types of an imagined
// app, never of a real library (a snippet imports those). Global, so every snippet sees them.

/** The app's root module, as `main.ts` imports it. */
declare class AppModule {}

interface Product {
  id: string;
  name: string;
}

/** A slow upstream the cache sits in front of. */
declare class ProductApi {
  fetch(id: string): Promise<Product>;
}

/** The app's mail provider client. */
declare class Mailer {
  send(to: string, subject: string, options: { idempotencyKey: string; signal: AbortSignal }): Promise<{ messageId: string }>;
}

/** The app's error for a user over the exports quota. */
declare class TooManyExportsError extends Error {
  constructor(retryAfterMs: number);
}

interface ChatMessage {
  text: string;
}

declare class ChatService {
  post(message: ChatMessage): Promise<{ event: string; data: unknown }>;
}

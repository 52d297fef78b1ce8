/** The environment variables Ballast reads; options given in code take precedence over each. */
export type BallastEnv = Readonly<Record<string, string | undefined>>;

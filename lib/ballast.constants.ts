/** DI token of the validated `BallastConfig` built from the module options and env. */
export const BALLAST_CONFIG = Symbol('BALLAST_CONFIG');

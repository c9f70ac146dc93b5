import { pino, type Logger } from 'pino';
import { namesProduction } from './config.js';

export interface LogSettings {
  level: string;
  /** pino-pretty's coloured lines instead of JSON; see chooseLogFormat. */
  pretty: boolean;
}

/**
 * Readable lines for a person at a terminal in development; JSON lines for everything that
 * collects logs (containers, CI, pipes), and always in production.
 */
export function chooseLogFormat(env: NodeJS.ProcessEnv, stdoutIsTty: boolean): boolean {
  return stdoutIsTty && !namesProduction(env.NODE_ENV);
}

/**
 * pino-pretty is a dev dependency: imported only when chosen, so a production install without
 * it never loads it, and a missing one falls back to JSON rather than stopping the service.
 */
export async function createLogger(settings: LogSettings): Promise<Logger> {
  if (settings.pretty) {
    try {
      const { default: pretty } = await import('pino-pretty');
      return pino(
        { level: settings.level },
        pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }),
      );
    } catch {
      // Not installed (npm ci --omit=dev): JSON lines below.
    }
  }
  return pino({ level: settings.level });
}

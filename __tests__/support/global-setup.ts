// Jest loads this file with Node itself (not through ts-jest), hence the .ts import.
import { startEmulator, type RunningEmulator } from './emulator.ts';

declare global {
  var gcsEmulator: RunningEmulator | undefined;
}

/**
 * One emulator for the whole run, as nodejs-storage starts its testbench. Workers find it
 * through GCS_EMULATOR_ENDPOINT, which they inherit from this process.
 */
export default async function globalSetup(): Promise<void> {
  // Clients without credentials (the emulator's) look for a GCE metadata server when asked
  // to sign (createDirectStaging checks at start-up); tests never run on one: do not look.
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  const emulator = await startEmulator();
  globalThis.gcsEmulator = emulator;
  process.env.GCS_EMULATOR_ENDPOINT = emulator.endpoint;
}

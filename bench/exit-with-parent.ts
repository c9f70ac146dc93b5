/**
 * Preloaded (`node --import`) into every server the bench starts. The bench talks to its
 * children over an IPC channel; when the bench dies, however it dies (even SIGKILL), the
 * channel closes and the server stops, so no stray server survives a benchmark.
 */
if (process.channel !== undefined) {
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  // The channel must not keep the server alive on its own, nor delay its normal exit.
  process.channel.unref();
}

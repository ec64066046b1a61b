// The toolkit (@actions/glob through @actions/core) prints `::debug::` lines straight to stdout while unit
// tests call it in-process: hundreds of them. They are shown only when asked for, with KUP_TEST_DEBUG=1.
if (!process.env.KUP_TEST_DEBUG) {
  const write = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
    typeof chunk === 'string' && chunk.startsWith('::debug::')
      ? true
      : write(chunk, ...rest)) as typeof process.stdout.write
}

// Placeholder until the client lands (issue 4): prints usage only.
process.stdout.write("usage: ferry [options] [host[:port]]\n");

// Placeholder until the server lands (issue 3): prints usage only.
process.stdout.write("usage: ferryd --root DIR [--host 127.0.0.1] [--port 2121]\n");

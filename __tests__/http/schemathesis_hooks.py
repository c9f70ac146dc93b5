# Loaded by schemathesis (SCHEMATHESIS_HOOKS, __tests__/http/schemathesis.test.ts).
import schemathesis

# A tus chunk (application/offset+octet-stream) is raw bytes, as application/octet-stream is.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")

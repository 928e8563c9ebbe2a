# COPY refuses URLs.
true
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY http://127.0.0.1:1/x /x
DOCKERFILE

# A missing source fails with BuildKit's message.
true
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY missing.txt /
DOCKERFILE

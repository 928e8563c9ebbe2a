# A destination below an existing file fails.
echo a > a
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY a /existing-file/x
DOCKERFILE

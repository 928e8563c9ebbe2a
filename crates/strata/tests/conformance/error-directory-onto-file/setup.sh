# A directory copied onto an existing file fails.
mkdir d && echo b > d/b
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY d /existing-file
DOCKERFILE

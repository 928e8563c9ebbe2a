# Inside a copied directory, a file meeting an existing directory fails.
mkdir -p d
echo x > d/emptydir
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
RUN mkdir -p /app/emptydir
COPY d /app/
DOCKERFILE

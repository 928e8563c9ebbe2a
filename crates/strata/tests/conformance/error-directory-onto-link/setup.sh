# Inside a copied directory, a directory meeting an existing symlink (even
# to a directory) fails: BuildKit's copy does not follow it.
mkdir -p d/data
echo f > d/data/f
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
RUN mkdir -p /app && ln -s /real-dir /app/data
COPY d /app/
DOCKERFILE

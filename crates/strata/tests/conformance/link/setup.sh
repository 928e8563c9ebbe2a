# COPY --link: copied into an empty layer, so destination symlinks are not
# followed (a real directory replaces the link), an existing directory does
# not make the destination a directory, parents are made 0755 with the
# copy's owner; with --chmod BuildKit falls back to a plain copy.
echo a > a
mkdir -p d && echo b > d/b
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY --link a /link-dir/
COPY --link --chown=1000:50 d /opt/data/
COPY --link a /real-dir
COPY --link --chmod=700 a /link-dir/chmodded
WORKDIR /app
COPY --link a .
RUN ls /link-dir /opt/data /real-dir > /tmp/listing
DOCKERFILE

# A directory source whose own mode is 0700: the destination directory is
# made 0755 (its contents keep their modes); an existing destination keeps
# its owner.
mkdir -p d700/inner
chmod 700 d700
echo x > d700/inner/x
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY d700 /slash/
COPY d700 /noslash
COPY d700 /deep/er/noslash
COPY d700/ /srcslash
COPY d700 /opt/data
COPY --chown=tester d700 /chowned
COPY --chmod=751 d700 /chmodded
COPY d700/inner /tmp
WORKDIR /w
COPY d700 .
DOCKERFILE

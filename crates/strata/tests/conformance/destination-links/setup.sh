# A directory copied to a destination that is a symlink goes where the link
# points, a dangling link's target is made, links inside the destination
# path are followed.
mkdir -p d
echo f > d/f
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
RUN ln -s /nowhere/deeper /dangling && ln -s /real-dir /opt/rel-link
COPY d /link-dir
COPY d /dangling
COPY d /opt/rel-link/sub/
DOCKERFILE

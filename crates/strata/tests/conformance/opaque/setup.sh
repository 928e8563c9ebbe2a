# A directory removed and made again in one RUN (an opaque directory), a
# file removed (a whiteout).
true
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
RUN rm -rf /opt/data && mkdir -m 750 /opt/data && chown 1000:50 /opt/data && touch /opt/data/new && rm /etc/group
DOCKERFILE

# Hardlinks kept within one source (not across sources), symlinks (relative,
# absolute, dangling) copied as links, set-id and set-gid bits kept, a
# directory copied over an existing one keeps its owner, into /bin full of
# links.
mkdir -p d/e d/empty
echo f > d/f
ln d/f d/hard
ln d/f hard-top
echo s > suid
chmod 4755 suid
chmod 2775 d/e
ln -s ../f d/e/rel-up
ln -s /etc/passwd d/abs
ln -s nowhere d/dangling
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY d /d/
COPY suid /suid
COPY d/hard hard-top /hl/
COPY d /opt/data/
COPY d/f /real-dir/
COPY d /bin/
DOCKERFILE

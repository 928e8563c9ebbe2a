# Names missing from /etc/passwd or /etc/group are root, silently (docker
# 20.10).
echo a > a
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY --chown=nosuchuser a /u1
COPY --chown=tester:nosuchgroup a /u2
COPY --chown=root:staff a /u3
COPY --chown=1000:tester a /u4
DOCKERFILE

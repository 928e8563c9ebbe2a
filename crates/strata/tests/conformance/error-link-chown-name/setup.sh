# COPY --link refuses --chown with a name (BuildKit 1.28: a linked copy
# cannot read /etc/passwd).
echo a > a
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY --link --chown=tester a /a
DOCKERFILE

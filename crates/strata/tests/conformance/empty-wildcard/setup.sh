# A wildcard that matches nothing copies nothing (and creates no
# destination), alone or beside a real source.
echo a > a
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY *.nomatch /dst/
COPY nomatch* a /dst2/
DOCKERFILE

# A variable in --chmod (BuildKit's reference: ARG MODE=440, COPY
# --chmod=$MODE).
echo a > a
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
ARG MODE=440
COPY --chmod=$MODE a /moded
DOCKERFILE

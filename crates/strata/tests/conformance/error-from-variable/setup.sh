# --from is never expanded.
true
cat > Dockerfile <<'DOCKERFILE'
ARG SRC=first
FROM conformance/base AS first
FROM conformance/base
COPY --from=${SRC} /etc/passwd /x
DOCKERFILE

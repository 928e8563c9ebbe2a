# COPY into what a real image already has: --link with --chmod and --chown,
# a directory's contents into an existing directory (its owner and mode
# stay) with --chown and --chmod, a directory from a stage with --chmod,
# and files over existing ones.
mkdir -p d/sub
echo a > a
echo b > d/b
echo c > d/sub/c
chmod 640 d/sub/c
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base AS stage
RUN mkdir -p /built/inner && echo s > /built/inner/s && chmod 700 /built/inner

FROM conformance/base
COPY --link --chmod=600 a /l1/
COPY --link --chown=1001:1002 d /l2/
COPY --chown=app d/ /opt/data/
COPY --chmod=751 d /real-dir/
COPY --from=stage --chmod=755 /built /from-stage/
COPY --from=stage --chown=tester /built/inner /tmp/inner
COPY a /existing-file
DOCKERFILE

# RUN --mount: cache, tmpfs, a context file, a stage's directory, a secret,
# the whole context. Nothing mounted reaches a layer, but docker 20.10
# leaves the directories it made for mount targets (not the files it made
# for file mounts).
echo ctx > ctxfile
echo s3cr3t > secret.txt
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base AS src
RUN mkdir -p /out && echo from-stage > /out/f

FROM conformance/base
RUN --mount=type=cache,target=/cache echo cached > /cache/c && cat /cache/c > /tmp/c
RUN --mount=type=tmpfs,target=/scratch echo t > /scratch/t && ls /scratch > /tmp/t
RUN --mount=type=bind,source=ctxfile,target=/mnt/ctx cat /mnt/ctx > /tmp/ctx
RUN --mount=type=bind,from=src,source=/out,target=/mnt/src cat /mnt/src/f > /tmp/src
RUN --mount=type=secret,id=s,target=/run/secrets/s test -s /run/secrets/s && echo ok > /tmp/secret
RUN --mount=type=bind,target=/ctx ls /ctx > /tmp/ls-ctx
DOCKERFILE

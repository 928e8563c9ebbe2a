# RUN --network=none has no network interface but lo.
true
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
RUN --network=none ls /sys/class/net > /tmp/none
DOCKERFILE

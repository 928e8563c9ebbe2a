# HEALTHCHECK --start-interval (Dockerfile 1.6 with docker 25); without it
# the history reads as docker 20.10 writes it.
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
HEALTHCHECK --retries=4 CMD ["true"]
HEALTHCHECK --interval=10s --start-period=30s --start-interval=2s CMD true
DOCKERFILE

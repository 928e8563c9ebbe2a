# Context files owned by other users are root's in the image (a symlink's
# owner too); build args given bare with no such variable are not set.
mkdir -p d
echo a > d/a
ln -s a d/l
chown -R 1234:5678 d
chown -h 1234:5678 d/l
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY d /d/
COPY d/a /a
ARG STRATA_CONFORMANCE_UNSET_FOO=default
ARG STRATA_CONFORMANCE_UNSET_BAR
RUN echo "[$STRATA_CONFORMANCE_UNSET_FOO][$STRATA_CONFORMANCE_UNSET_BAR]" > /r
DOCKERFILE

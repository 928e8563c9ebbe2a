# ONBUILD triggers of the base image run first in the child build, in order
# (COPY, RUN, ENV), with the base's SHELL and USER.
echo a > a
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/meta
ARG Y=argval
RUN echo "X=$X Y=$Y" > /tmp/out && cat /a
CMD ["override"]
DOCKERFILE

# ONBUILD triggers also run when a stage is built FROM an earlier stage.
true
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base AS parent
ONBUILD RUN echo triggered > /triggered
ONBUILD ENV TRIG=1
LABEL parent=1

FROM parent AS child
RUN echo child > /child
DOCKERFILE

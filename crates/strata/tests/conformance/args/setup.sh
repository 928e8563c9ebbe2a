# ARG scoping: global ARGs in FROM, redeclared in a stage, --build-arg
# values, ARG defaults, ENV over ARG, ARGs without value, predefined proxy
# ARGs, values in RUN history, unused build args.
true
cat > Dockerfile <<'DOCKERFILE'
ARG BASE=conformance/base
ARG GLOBAL=g1
ARG UNUSEDGLOBAL
FROM ${BASE}:latest AS first
ARG GLOBAL
ARG LOCAL=l1
ARG FROMENV
ARG NOVALUE
ENV LOCAL=env-$LOCAL
RUN echo "$GLOBAL $LOCAL $FROMENV $NOVALUE" > /tmp/r1
ARG LOCAL=l2
RUN echo "$LOCAL" > /tmp/r2
ENV E1=$GLOBAL

FROM $BASE AS second
RUN echo "[$GLOBAL] [$LOCAL]" > /tmp/r3
ARG GLOBAL=override
ARG http_proxy
RUN echo "$GLOBAL" > /tmp/r4 && echo "$http_proxy" > /tmp/r5
COPY --from=first /tmp/r1 /tmp/r2 /tmp/
DOCKERFILE

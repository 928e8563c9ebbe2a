# A base that is neither a stage nor a valid reference fails the build
# before any instruction is dispatched.
ARG BASE=Alpine
FROM alpine:3.20 AS first
WORKDIR relative
FROM ${BASE}
CMD echo $UNDEFINED

# An empty --platform fails the build before any stage is dispatched.
FROM alpine:3.20 AS first
WORKDIR relative
ENV X $UNDEFINED
FROM --platform=$NOT_DECLARED alpine:3.20 AS second

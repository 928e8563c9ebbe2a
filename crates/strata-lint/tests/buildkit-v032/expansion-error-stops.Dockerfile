# An expansion error ends the checks at that instruction.
FROM alpine:3.20 AS first
ENV A ${REQUIRED:?must be set}
WORKDIR relative
FROM alpine:3.20
CMD echo second

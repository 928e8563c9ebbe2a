# An instruction other than ARG before the first FROM is refused: only what
# was checked while typing it is reported.
MAINTAINER someone
FROM alpine:3.20 as Build
ENV A 1

# The escape directive, global ARGs with defaults in FROM,
# --platform=$BUILDPLATFORM, the predefined platform ARGs, ENV quoting and
# escapes, variables in WORKDIR, USER, STOPSIGNAL, VOLUME, EXPOSE and LABEL.
echo a > a
cat > Dockerfile <<'DOCKERFILE'
# escape=`
ARG SRC=builder
ARG BASE
FROM ${BASE:-conformance/base} AS builder
ARG TARGETPLATFORM
ARG BUILDPLATFORM
ARG TARGETOS TARGETARCH
RUN echo "$TARGETPLATFORM $BUILDPLATFORM $TARGETOS $TARGETARCH" > /plat && `
    echo continued >> /plat
ENV DOLLAR=`$HOME QUOTED="a `"b`" c" SINGLE='$x' EQ=a=b=c

FROM --platform=$BUILDPLATFORM conformance/base AS second
ARG SRC
ENV WD=/work USR=tester SIG=SIGUSR1 VOL=/vol PORT=1234
WORKDIR $WD/sub
USER ${USR}:staff
STOPSIGNAL $SIG
VOLUME $VOL ${VOL}2
EXPOSE $PORT/udp
COPY --from=builder /plat .
LABEL from=$SRC multi="line `
continued"
ENTRYPOINT ["echo", "$WD"]
CMD echo $WD
DOCKERFILE

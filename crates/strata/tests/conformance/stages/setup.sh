# Multi-stage: FROM scratch, FROM <stage>, COPY --from a stage name, an
# index and an image, wildcards from a stage; the last stage is not the
# target.
echo a > a
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base AS builder
WORKDIR /src
RUN echo built > out.bin && mkdir -p sub/deep && echo x > sub/deep/x && chown -R 1000:1000 sub && ln -s out.bin link.bin
ENV BUILDER=1
LABEL stage=builder

FROM builder AS derived
RUN echo more > /src/more
LABEL stage=derived

FROM scratch AS final
COPY --from=builder /src/out.bin /bin/
COPY --from=0 /src/sub /sub
COPY --from=derived /src/more /src/link.bin /
COPY --from=conformance/base /etc/passwd /etc/passwd
COPY --from=builder /src/* /glob/
COPY a /a
ENV X=1
CMD ["/bin/out.bin"]

FROM derived AS alt
COPY --from=final /a /from-final
DOCKERFILE

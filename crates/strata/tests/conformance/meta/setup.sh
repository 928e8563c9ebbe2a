# Every metadata instruction: ENV forms and expansion, LABEL (overrides),
# EXPOSE forms and ranges, USER, STOPSIGNAL, VOLUME forms, HEALTHCHECK
# options, MAINTAINER, SHELL with CMD, ENTRYPOINT resetting CMD, ONBUILD,
# relative WORKDIRs.
true
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
ENV A=1 B="two words" C=$A
ENV D ${B}-suffix
ENV E=${UNSET:-default} F=${A:+set}
ENV PATH=/custom:$PATH
LABEL l1=v1 "l 2"="v 2" l3=${A}
LABEL l1=override
EXPOSE 80 443/tcp 53/udp 8000-8002 ${A}000
EXPOSE 80/TCP
USER 1000:1000
USER tester
STOPSIGNAL 9
STOPSIGNAL SIGKILL
VOLUME /v1 /v2
VOLUME ["/v3", "/v 4"]
HEALTHCHECK --interval=1m30s --timeout=10s --start-period=5s --retries=5 CMD ["/bin/true", "x"]
HEALTHCHECK --timeout=3s CMD true
MAINTAINER Jane Doe <jane@example.com>
SHELL ["/bin/sh", "-x", "-c"]
CMD echo shell form
ENTRYPOINT ["/bin/echo"]
ONBUILD COPY a /a
ONBUILD RUN echo "$X"
ONBUILD ENV X=1
WORKDIR relative
WORKDIR ../up
WORKDIR $A
DOCKERFILE

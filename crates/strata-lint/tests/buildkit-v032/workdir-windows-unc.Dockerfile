# BuildKit warns about a UNC WORKDIR, then fails: nothing after it is checked.
FROM --platform=windows/amd64 mcr.microsoft.com/windows/nanoserver:ltsc2022 AS win
WORKDIR \\\\server\\share
CMD echo after

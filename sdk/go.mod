module github.com/portico-dev/portico/sdk

go 1.24

module github.com/portico-dev/portico/sdk

go 1.26.8

// A minimal Corvo worker, a module of its own that uses the Go SDK as users do: required by
// its module path and replaced by the checkout's sdk/go (docs/workers.md).
module example.invalid/corvo/grpc-examples/workers/go

go 1.22.0

require example.invalid/corvo/sdk/go v0.0.0

require (
	github.com/go-logr/logr v1.4.2 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	go.opentelemetry.io/auto/sdk v1.1.0 // indirect
	go.opentelemetry.io/otel v1.35.0 // indirect
	go.opentelemetry.io/otel/metric v1.35.0 // indirect
	go.opentelemetry.io/otel/trace v1.35.0 // indirect
	golang.org/x/net v0.34.0 // indirect
	golang.org/x/sys v0.29.0 // indirect
	golang.org/x/text v0.21.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20250115164207-1a7da9e5054f // indirect
	google.golang.org/grpc v1.71.1 // indirect
	google.golang.org/protobuf v1.36.6 // indirect
)

replace example.invalid/corvo/sdk/go => ../../../sdk/go

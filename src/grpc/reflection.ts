/**
 * gRPC server reflection, v1 and v1alpha (the same messages under two names), from the descriptors that protobuf-es
 * embeds in the generated code: `grpcurl list`, `grpcurl describe` and calls without a local .proto file work against a
 * role. Answers list_services, file_by_filename and file_containing_symbol (service, method, message, enum, extension);
 * there are no extensions, so file_containing_extension is NOT_FOUND and all_extension_numbers_of_type lists none.
 * The descriptors carry no comments: protobuf-es strips source info from what it embeds.
 */
import { create, toBinary, type DescFile, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { status as Status, type ServerDuplexStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  ServerReflectionResponseSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from './gen/grpc/reflection/v1/reflection_pb';

export const REFLECTION_V1 = 'grpc.reflection.v1.ServerReflection';
export const REFLECTION_V1ALPHA = 'grpc.reflection.v1alpha.ServerReflection';

export class ReflectionIndex {
  private readonly files = new Map<string, DescFile>();
  private readonly symbols = new Map<string, DescFile>();
  private readonly extendable = new Set<string>();

  /** `services`: what list_services answers, fully qualified. `files`: the files that define them (their imports follow). */
  constructor(
    readonly services: string[],
    files: DescFile[],
  ) {
    for (const file of files) this.add(file);
  }

  private add(file: DescFile): void {
    if (this.files.has(file.proto.name)) return;
    this.files.set(file.proto.name, file);
    const messages = (list: DescMessage[]) => {
      for (const message of list) {
        this.symbols.set(message.typeName, file);
        this.extendable.add(message.typeName);
        for (const e of message.nestedEnums) this.symbols.set(e.typeName, file);
        for (const x of message.nestedExtensions) this.symbols.set(x.typeName, file);
        messages(message.nestedMessages);
      }
    };
    messages(file.messages);
    for (const e of file.enums) this.symbols.set(e.typeName, file);
    for (const x of file.extensions) this.symbols.set(x.typeName, file);
    for (const service of file.services) {
      this.symbols.set(service.typeName, file);
      for (const method of service.methods) this.symbols.set(`${service.typeName}.${method.name}`, file);
    }
    for (const dependency of file.dependencies) this.add(dependency);
  }

  /** The file and, after it, every file it imports (transitively): a client needs them all to build the descriptor. */
  private withImports(file: DescFile): Uint8Array[] {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const visit = (f: DescFile) => {
      if (seen.has(f.proto.name)) return;
      seen.add(f.proto.name);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
      f.dependencies.forEach(visit);
    };
    visit(file);
    return out;
  }

  answer(request: ServerReflectionRequest): ServerReflectionResponse {
    const reply = (messageResponse: MessageInitShape<typeof ServerReflectionResponseSchema>['messageResponse']) =>
      create(ServerReflectionResponseSchema, { validHost: request.host, originalRequest: request, messageResponse });
    const notFound = (what: string) => reply({ case: 'errorResponse', value: { errorCode: Status.NOT_FOUND, errorMessage: `${what} not found` } });
    const files = (file: DescFile | undefined, what: string) =>
      file ? reply({ case: 'fileDescriptorResponse', value: { fileDescriptorProto: this.withImports(file) } }) : notFound(what);
    const ask = request.messageRequest;
    switch (ask.case) {
      case 'listServices':
        return reply({ case: 'listServicesResponse', value: { service: this.services.map((name) => ({ name })) } });
      case 'fileByFilename':
        return files(this.files.get(ask.value), `file ${ask.value}`);
      case 'fileContainingSymbol':
        return files(this.symbols.get(ask.value.replace(/^\./, '')), `symbol ${ask.value}`);
      case 'fileContainingExtension':
        return notFound(`extension ${ask.value.extensionNumber} of ${ask.value.containingType}`);
      case 'allExtensionNumbersOfType':
        return this.extendable.has(ask.value)
          ? reply({ case: 'allExtensionNumbersResponse', value: { baseTypeName: ask.value, extensionNumber: [] } })
          : notFound(`type ${ask.value}`);
      default:
        return reply({ case: 'errorResponse', value: { errorCode: Status.INVALID_ARGUMENT, errorMessage: 'no request in the message' } });
    }
  }

  /** The ServerReflectionInfo implementation: one answer per request, in order, until the client half-closes. */
  implementation(): UntypedServiceImplementation {
    return {
      serverReflectionInfo: (call: ServerDuplexStream<ServerReflectionRequest, ServerReflectionResponse>) => {
        // Backpressure: a client that sends requests and never reads the answers stops being read, instead of making the
        // server buffer a descriptor of several KB for every 30-byte request.
        call.on('data', (request: ServerReflectionRequest) => {
          if (!call.write(this.answer(request))) {
            call.pause();
            call.once('drain', () => call.resume());
          }
        });
        call.on('end', () => call.end());
        call.on('error', () => call.end());
      },
    };
  }
}

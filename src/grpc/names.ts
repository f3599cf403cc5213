/** The gRPC names the rest of the platform refers to (metrics, manifests), from the generated descriptors: written once. */
import { GreetingService } from './gen/greeting/v3/greeting_pb';

export const GREETING_SERVICE = GreetingService.typeName;
/** The HTTP/2 path of the one call a role makes of another over gRPC: what an AuthorizationPolicy allows. */
export const GREETING_METHOD = `/${GREETING_SERVICE}/${GreetingService.method.greeting.name}`;

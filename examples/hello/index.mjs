// The smallest useful Lambda function: greets whoever the event names.
//   kiln deploy ./examples/hello --name hello --runtime nodejs20.x --handler index.handler
//   kiln invoke hello '{"name":"Kiln"}'   ->   {"message":"Hello, Kiln!","event":{"name":"Kiln"}}
export const handler = async (event, context) => {
  const name = typeof event?.name === "string" ? event.name : "world";
  console.log(`saying hello to ${name} (request ${context.awsRequestId})`);
  return { message: `Hello, ${name}!`, event };
};

console.log("execmem-lab");

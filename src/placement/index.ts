/** placement: chooses the worker for a new sandbox. Pure; must not import any component but base. */
export { place, type WorkerLoad, type PlacementRequest } from "./place.js";
